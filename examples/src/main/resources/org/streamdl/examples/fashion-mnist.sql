-- Scoring Fashion-MNIST images from Kafka with a StreamDL model in int8, by SQL alone.
--
-- Before running it in the SQL client or through the SQL Gateway, replace
--   ${bootstrap.servers}  the Kafka brokers, such as localhost:9092
--   ${model.path}         the float32 LeNet-5 model file, such as file:///models/lenet5.sdlm
--   ${calibration.path}   images to calibrate int8 on, such as
--                         file:///usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
-- The images topic holds JSON rows {"id": 17, "pixels": [0.0, 0.0117, ...]} of 784 values in [0, 1].
-- Drop 'scan.bounded.mode' to score the topic continuously instead of what it holds now.

CREATE TABLE images (
  id BIGINT,
  pixels ARRAY<FLOAT>
) WITH (
  'connector' = 'kafka',
  'topic' = 'fashion-mnist-images',
  'properties.bootstrap.servers' = '${bootstrap.servers}',
  'properties.group.id' = 'fashion-mnist-sql',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'json'
);

CREATE TABLE predictions (
  id BIGINT,
  label INT,
  confidence FLOAT,
  model_version BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = 'fashion-mnist-predictions',
  'properties.bootstrap.servers' = '${bootstrap.servers}',
  'format' = 'json',
  'sink.delivery-guarantee' = 'at-least-once'
);

-- The float32 model is quantized to int8 on the first 1024 calibration images when the statement is planned.
CREATE MODEL fashion
  INPUT (pixels ARRAY<FLOAT>)
  OUTPUT (label INT, probabilities ARRAY<FLOAT>, model_version BIGINT)
  WITH (
    'provider' = 'streamdl',
    'path' = '${model.path}',
    'precision' = 'int8',
    'calibration-path' = '${calibration.path}',
    'feature-shape' = '1,28,28',
    'max-batch-size' = '256',
    'max-batch-delay' = '10 ms'
  );

-- The async function batches the rows in flight: let a whole batch be in flight, and the next one fill while it runs.
INSERT INTO predictions
SELECT id, label, probabilities[label + 1] AS confidence, model_version
FROM ML_PREDICT(TABLE images, MODEL fashion, DESCRIPTOR(pixels), MAP['max-concurrent-operations', '512']);
