"""What the console keeps between API answers: pure data structures, no Textual, time passed in."""
