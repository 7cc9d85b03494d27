"""Personal data protection: field encryption and blind indexes."""
