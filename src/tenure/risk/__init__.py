"""Risk rules (a safe expression language over features) and the alerts they raise."""
