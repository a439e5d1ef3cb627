"""Screens: one per resource view; they reach hosts only through the app's messages."""
