"""Post-deployment synthetics: the LMS's critical flows against the environment on a schedule."""
