"""Match lifecycle tasks: offer expiry, reminders, notifications."""
