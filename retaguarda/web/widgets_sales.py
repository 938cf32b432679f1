"""The dashboard widgets of sales; imported by WebConfig.ready() to register them."""
