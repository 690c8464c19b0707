"""The canary controller: approval wait, then 10% -> 50% -> hook Succeeded, judged at every step (decision 0010)."""
