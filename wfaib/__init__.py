"""WFAIB: workflow automation with AI built in."""
