"""The image family: what image classification, medical imaging and object detection share (decoding,
image layers, backbones, array and folder inputs, the ImageSolution). Imports core only."""
