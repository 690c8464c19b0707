"""`tollgate doctor`: the LMS side Tollgate depends on, checked."""
