"""Design: ONNX models, their partitions, and the candidate designs built from them."""
