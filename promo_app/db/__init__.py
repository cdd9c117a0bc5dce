"""The promo engine: its bind, SQLite's write lock, and statements run straight on the driver."""
