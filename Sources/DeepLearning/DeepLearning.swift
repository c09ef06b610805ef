// The umbrella module: `import DeepLearning` brings in every module of the library.
@_exported import Tensor
@_exported import Autograd
@_exported import Metrics
@_exported import Layers
@_exported import Optimizers
@_exported import Training
@_exported import Datasets
