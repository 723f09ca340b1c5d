"""Acting on a plan: install steps and exec, supervision as PID 1, exit statuses and the status files."""
