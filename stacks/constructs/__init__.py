"""One construct per capability; the stack composes them from the environment config."""
