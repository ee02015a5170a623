"""Feed-serving HTTP fixture on 127.0.0.1 (filled in by the reader work)."""
