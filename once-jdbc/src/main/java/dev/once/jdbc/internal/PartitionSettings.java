package dev.once.jdbc.internal;

import java.time.Duration;

/**
 * How a partitioned PostgreSQL table's partitions are kept.
 *
 * @param width the range of {@code expires_at} each partition covers
 * @param ahead how far past now the purge keeps partitions created; zero: it creates none
 * @param lockWait the longest a purge waits for the lock that adding or dropping a partition needs
 */
public record PartitionSettings(Duration width, Duration ahead, Duration lockWait) {}
