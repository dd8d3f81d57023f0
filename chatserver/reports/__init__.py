"""Reports for managers: response times against the target, workload, quality, the bot, live."""
