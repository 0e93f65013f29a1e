"""What every domain shares. Knows no domain."""
