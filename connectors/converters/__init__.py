"""Built-in converters: JSON, string, byte array and the simple header converter."""
