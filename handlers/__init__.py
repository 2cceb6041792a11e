"""Slack listeners, the Bolt app around them, the HTTP transport, the shell and the CLI."""
