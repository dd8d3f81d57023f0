"""The domain: frames, errors, settings, the conversation and clock rules, hours. No I/O."""
