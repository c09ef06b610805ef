import DeepLearning
import PneumoniaModels

/// A model loaded from a checkpoint, used by one request at a time.
///
/// Layers are reference types whose weights carry gradient buffers, and a Grad-CAM backward pass
/// writes into those buffers; so a replica must never be used by two tasks at once. ``ModelPool``
/// guarantees that (hence `@unchecked Sendable`): a replica is handed to one task and is only
/// reachable by it until given back.
public final class ModelReplica: @unchecked Sendable {
    /// The checkpoint's model and metadata.
    public let checkpoint: LoadedCheckpoint

    /// A replica holding `checkpoint`.
    public init(_ checkpoint: LoadedCheckpoint) { self.checkpoint = checkpoint }
}

/// Up to `capacity` replicas of a model, each lent to one inference at a time.
///
/// Concurrent requests never share mutable state: each borrows its own replica (created on first
/// need, up to `capacity`, from the checkpoint file), and requests beyond `capacity` wait for one
/// to be returned. Weights are only read, so replicas are identical and results do not depend on
/// which one served a request.
public actor ModelPool {
    private let makeReplica: @Sendable () throws -> ModelReplica
    private var idle: [ModelReplica]
    private var created: Int
    private var waiting: [CheckedContinuation<ModelReplica, Never>] = []
    /// The largest number of replicas the pool creates.
    public let capacity: Int

    /// A pool starting with `first` and creating more with `make`, up to `capacity` in all.
    public init(capacity: Int, first: ModelReplica, make: @escaping @Sendable () throws -> ModelReplica) {
        precondition(capacity >= 1, "ModelPool: capacity must be at least 1, got \(capacity)")
        self.capacity = capacity
        self.makeReplica = make
        self.idle = [first]
        self.created = 1
    }

    /// The number of replicas created so far.
    public var replicaCount: Int { created }

    private func acquire() async throws -> ModelReplica {
        if let replica = idle.popLast() { return replica }
        if created < capacity {
            created += 1
            do { return try makeReplica() } catch {
                created -= 1
                throw error
            }
        }
        return await withCheckedContinuation { waiting.append($0) }
    }

    private func release(_ replica: ModelReplica) {
        if waiting.isEmpty {
            idle.append(replica)
        } else {
            waiting.removeFirst().resume(returning: replica)
        }
    }

    /// Runs `body` with a replica that no other task uses meanwhile (waiting for one if all are
    /// busy), then returns the replica to the pool. `body` runs on the caller's task, not on the
    /// pool's actor, so several replicas compute in parallel.
    public nonisolated func withReplica<R: Sendable>(_ body: @Sendable (ModelReplica) throws -> R) async throws -> R {
        let replica = try await acquire()
        let result = Result { try body(replica) }
        await release(replica)
        return try result.get()
    }
}
