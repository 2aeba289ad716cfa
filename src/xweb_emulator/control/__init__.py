"""The emulator's own state and routes for test harnesses: clock, request journal, fault rules, /_emulator/."""
