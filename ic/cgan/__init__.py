"""Study 2: inverse classification with a conditional GAN on MNIST (Hobbhahn 2020)."""
