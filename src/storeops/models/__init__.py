"""Statistical models (customer lifetime value, forecasting, ...), one per file."""
