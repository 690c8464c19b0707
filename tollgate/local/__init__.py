"""Local stand-ins: Lambda context, the LMS HTTP service, the Slack receiver."""
