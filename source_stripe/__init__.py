from source_stripe.source import SourceStripe

__all__ = ["SourceStripe"]
