"""Identity resolution: link a customer's identifiers across sources into one customer."""
