"""humaneval: human evaluation of open-domain chatbots."""
