"""The Teams app manifest template and the app's two icons (colour 192x192, outline 32x32)."""
