"""The emulator's own WSDLs, shipped as package data."""
