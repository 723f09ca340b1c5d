"""`sm-train check`: whether this image will work on SageMaker, answered from inside it without changing anything."""
