"""The dashboard widgets of fulfilment; imported by WebConfig.ready() to register them."""
