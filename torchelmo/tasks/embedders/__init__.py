"""Token representations for task models: learned and pretrained word vectors, a character
CNN and ELMo (:mod:`.token_embedder` joins them; their config: :mod:`.config`)."""
