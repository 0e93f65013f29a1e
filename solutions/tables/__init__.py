"""The table family: what fraud detection and credit scoring share (column layouts, model inputs,
column-wise Keras models, seed ensembles, classical baselines and the TabularSolution). Imports core only."""
