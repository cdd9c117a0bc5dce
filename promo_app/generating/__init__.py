"""Generating codes: patterns that say what a code looks like, and writing them into a program."""
