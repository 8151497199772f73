"""Serving our own small HTTP apps safely: the model server (`humaneval.models.server`) and the review page
(`humaneval.review_page`) share these parts, so both bind loopback unless told otherwise, demand a token
beyond it, and carry the same limits against hostile clients."""
