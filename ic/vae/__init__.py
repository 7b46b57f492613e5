"""Study 3: classification by re-generation with one variational autoencoder per class (Rezaeifar, Taran &
Voloshynovskiy, arXiv:1809.03259) on MNIST and Fashion-MNIST."""
