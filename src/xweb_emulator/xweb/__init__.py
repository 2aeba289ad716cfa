"""netFORUM Enterprise xWeb: models, operations, and the SOAP and JSON adapters."""
