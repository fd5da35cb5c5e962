"""Video data: sources, synthetic clips, TFRecords and the tf.data pipeline."""
