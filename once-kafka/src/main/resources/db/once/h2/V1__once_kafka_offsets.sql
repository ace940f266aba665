-- Once's Kafka consumer offsets, kept beside the effects (KafkaInboxConsumer with offsets in the database).
-- Copy into your migrations (Flyway, Liquibase) or let the consumer create it (createSchema(true)).
-- Rename the table if you like; tell the consumer (offsetsTable).
CREATE TABLE IF NOT EXISTS once_kafka_offsets (
    consumer_group  VARCHAR(255) NOT NULL,
    topic           VARCHAR(255) NOT NULL,
    topic_partition INT          NOT NULL,
    next_offset     BIGINT       NOT NULL, -- the next offset to read; only ever moves forward
    PRIMARY KEY (consumer_group, topic, topic_partition)
);
