"""The Textual application: the app, its controllers, themes and the keymap."""
