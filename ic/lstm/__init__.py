"""Study 1: inverse classification with generative LSTMs on UCI Character Trajectories (Hobbhahn 2018)."""
