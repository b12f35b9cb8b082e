"""The Slack app manifests (HTTP and Socket Mode) and the app icon."""
