"""The chat platforms' app manifests: package data, so an installed copy prints them."""
