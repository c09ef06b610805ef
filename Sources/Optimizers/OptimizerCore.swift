import Foundation

/// The machinery every optimizer of this module shares, in Keras 3's order of operations: the
/// learning rate (fixed, or a schedule evaluated at `iterations`), the iteration counter, gradient
/// clipping, decoupled weight decay, and per-parameter slots keyed by parameter name.
///
/// One update (`apply`) does, for the parameters that have a gradient:
/// 1. clip the gradients (`clipNorm` per parameter, `globalClipNorm` over all of them, or `clipValue`);
/// 2. decay the weights, `w = w - w * weightDecay * lr` (Keras `_apply_weight_decay`);
/// 3. run the optimizer's per-parameter step on the weight, clipped gradient and slots;
/// 4. increment `iterations`.
final class OptimizerCore<Scalar: TensorScalar> {
    /// The optimizer's Keras class name ("SGD", "Adam", ...).
    let optimizerName: String
    /// The slots each parameter gets, in storage order (Keras names: "momentum", "velocity", ...).
    let slotNames: [String]
    /// The rate used when there is no schedule.
    var fixedLearningRate: Double
    /// The schedule, evaluated at `iterations`, that overrides `fixedLearningRate` when set.
    var schedule: (any LearningRateSchedule)?
    /// Updates applied so far.
    var iterations = 0
    /// The clipping applied to gradients before each update.
    let clipping: GradientClipping?
    /// The decoupled weight-decay coefficient (0: none).
    let weightDecay: Double

    /// One parameter's slots, stored back to back: slot `j` occupies `j * count ..< (j + 1) * count`.
    struct SlotStorage {
        var shape: [Int]
        var scalars: [Scalar]
        /// Elements per slot (the parameter's element count).
        let count: Int

        init(shape: [Int], scalars: [Scalar]) {
            self.shape = shape
            self.scalars = scalars
            count = shape.reduce(1, *)
        }
    }

    /// Slots by parameter name, created (zeroed) when a parameter is first updated or built.
    var slots: [String: SlotStorage] = [:]

    init(
        name: String, slotNames: [String], learningRate: Double, schedule: (any LearningRateSchedule)?,
        clipping: GradientClipping?, weightDecay: Double
    ) {
        precondition(learningRate >= 0 && learningRate.isFinite, "\(name): learning rate must be finite and non-negative, got \(learningRate)")
        precondition(weightDecay >= 0 && weightDecay.isFinite, "\(name): weight decay must be finite and non-negative, got \(weightDecay)")
        if let clipping {
            precondition(
                clipping.threshold > 0 && clipping.threshold.isFinite,
                "\(name): \(clipping.kerasName) must be positive and finite, got \(clipping.threshold)")
        }
        self.optimizerName = name
        self.slotNames = slotNames
        self.fixedLearningRate = learningRate
        self.schedule = schedule
        self.clipping = clipping
        self.weightDecay = weightDecay
    }

    /// The rate the next update uses: the schedule at `iterations`, or the fixed rate.
    /// Setting it replaces any schedule with the fixed rate.
    var learningRate: Double {
        get { schedule?.learningRate(step: iterations) ?? fixedLearningRate }
        set {
            precondition(newValue >= 0 && newValue.isFinite, "\(optimizerName): learning rate must be finite and non-negative, got \(newValue)")
            schedule = nil
            fixedLearningRate = newValue
        }
    }

    // MARK: - Slots

    /// Creates zeroed slots for every parameter that has none (Keras `build`), checking that existing
    /// slots (for example restored ones) have the parameter's shape.
    func build(_ parameters: [(name: String, variable: Variable<Scalar>)]) {
        for (name, variable) in parameters {
            _ = ensureSlots(name: name, shape: variable.shape)
        }
    }

    /// The slots of `name`, created zeroed if absent; a precondition checks an existing slot shape.
    private func ensureSlots(name: String, shape: [Int]) -> SlotStorage {
        if let existing = slots[name] {
            precondition(
                existing.shape == shape,
                "\(optimizerName).update: slots of parameter \"\(name)\" have shape \(existing.shape) but the parameter has shape \(shape)")
            return existing
        }
        let storage = SlotStorage(shape: shape, scalars: [Scalar](repeating: 0, count: slotNames.count * shape.reduce(1, *)))
        slots[name] = storage
        return storage
    }

    // MARK: - Update

    /// One update of the parameters that have a gradient. `step` receives, per parameter, the
    /// weight, its clipped gradient, its slots and the element count, and updates weight and slots
    /// in place. A call where no parameter has a gradient changes nothing (not even `iterations`).
    func apply(
        _ parameters: [(name: String, variable: Variable<Scalar>)],
        step: (UpdateBuffers<Scalar>) -> Void
    ) {
        checkNamesAreUnique(parameters)
        // Index loops, no intermediate arrays: an update without clipping allocates nothing once
        // the slots exist (not even in a debug build, where generic iterators allocate).
        var any = false
        var i = 0
        while i < parameters.count {
            let (name, variable) = parameters[i]
            i += 1
            guard let gradient = variable.gradient else { continue }
            precondition(
                gradient.shape == variable.shape,
                "\(optimizerName).update: gradient of \"\(name)\" has shape \(gradient.shape) but the parameter has shape \(variable.shape)")
            any = true
        }
        guard any else { return }

        let lr = Scalar(learningRate)
        if clipping == nil {
            i = 0
            while i < parameters.count {
                let (name, variable) = parameters[i]
                i += 1
                guard let gradient = variable.gradient else { continue }
                update(name: name, variable: variable, gradient: gradient, learningRate: lr, step: step)
            }
        } else {
            let present = parameters.compactMap { p in p.variable.gradient.map { (p.name, p.variable, $0) } }
            let gradients = clip(present.map(\.2))
            for (p, gradient) in zip(present, gradients) {
                update(name: p.0, variable: p.1, gradient: gradient, learningRate: lr, step: step)
            }
        }
        iterations += 1
    }

    /// The parameter names of the last update, once checked to be unique (so a training loop that
    /// passes the same list every step checks it once, without building a set each time).
    private var checkedNames: [String] = []

    /// Stops with a precondition when a parameter name appears twice.
    private func checkNamesAreUnique(_ parameters: [(name: String, variable: Variable<Scalar>)]) {
        if parameters.count == checkedNames.count {
            var i = 0
            while i < parameters.count && parameters[i].name == checkedNames[i] { i += 1 }
            if i == parameters.count { return }
        }
        var names = Set<String>()
        for (name, _) in parameters {
            precondition(names.insert(name).inserted, "\(optimizerName).update: parameter name \"\(name)\" appears twice")
        }
        checkedNames = parameters.map(\.name)
    }

    /// Decays one parameter's weights (when weight decay is on) and runs `step` on its buffers.
    private func update(
        name: String, variable: Variable<Scalar>, gradient: Tensor<Scalar>, learningRate lr: Scalar,
        step: (UpdateBuffers<Scalar>) -> Void
    ) {
        if weightDecay > 0 {
            let wd = Scalar(weightDecay)
            variable.value.withUnsafeMutableBufferPointer { w in
                guard let base = w.baseAddress else { return }
                decayWeights(base, w.count, weightDecay: wd, learningRate: lr)
            }
        }
        _ = ensureSlots(name: name, shape: variable.shape)
        var storage = slots.removeValue(forKey: name)!
        let count = storage.count
        if count > 0 {
            gradient.withUnsafeBufferPointer { g in
                storage.scalars.withUnsafeMutableBufferPointer { s in
                    variable.value.withUnsafeMutableBufferPointer { w in
                        step(UpdateBuffers(weight: w.baseAddress!, gradient: g.baseAddress!, slots: s.baseAddress, count: count))
                    }
                }
            }
        }
        slots[name] = storage
    }

    /// The gradients after this optimizer's clipping (Keras `_clip_gradients`).
    private func clip(_ gradients: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        switch clipping {
        case nil:
            return gradients
        case .clipNorm(let c)?:
            return gradients.map { clipByNorm($0, Scalar(c)) }
        case .globalClipNorm(let c)?:
            var squared = 0.0
            for g in gradients {
                squared += g.withUnsafeBufferPointer { b in
                    b.baseAddress.map { Double(Scalar.dot(count: b.count, $0, $0)) } ?? 0
                }
            }
            let norm = Scalar(squared.squareRoot())
            let threshold = Scalar(c)
            // Keras clip_by_global_norm: c * min(1 / N, 1 / c), made NaN when N is not finite.
            let scale = threshold * Swift.min(1 / norm, 1 / threshold) + (norm - norm)
            return gradients.map { $0 * scale }
        case .clipValue(let c)?:
            let v = Scalar(c)
            return gradients.map { $0.map(.clamp(lower: -v, upper: v)) }
        }
    }

    /// `g * c / max(‖g‖, c)` (TensorFlow `clip_by_norm`; a zero gradient stays zero).
    private func clipByNorm(_ g: Tensor<Scalar>, _ c: Scalar) -> Tensor<Scalar> {
        let squared = g.withUnsafeBufferPointer { b in
            b.baseAddress.map { Scalar.dot(count: b.count, $0, $0) } ?? 0
        }
        let norm = squared > 0 ? squared.squareRoot() : squared
        var divisor = Swift.max(norm, c)
        return g.withUnsafeBufferPointer { src in
            Tensor.buildUninitialized(shape: g.shape) { out in
                guard let x = src.baseAddress else { return }
                Scalar.applyUnary(.affine(scale: c, shift: 0), x, out, src.count)
                Scalar.applyBinary(.divide, out, 1, &divisor, 0, out, src.count)
            }
        }
    }

    /// `w = w - w * wd * lr`, elementwise (Keras `_apply_weight_decay`).
    private func decayWeights(_ w: UnsafeMutablePointer<Scalar>, _ n: Int, weightDecay wd: Scalar, learningRate lr: Scalar) {
        if Scalar.self == Float.self {
            weightDecayKernel(UnsafeMutablePointer<Float>(OpaquePointer(w)), n, Float(wd), Float(lr))
        } else if Scalar.self == Double.self {
            weightDecayKernel(UnsafeMutablePointer<Double>(OpaquePointer(w)), n, Double(wd), Double(lr))
        } else {
            weightDecayKernel(w, n, wd, lr)
        }
    }

    // MARK: - State

    /// Slots and counters by name: "iterations" (rank 0), "learning_rate" (rank 0, only without a
    /// schedule), and "<parameter>/<slot>" for every parameter that has slots.
    func stateTensors() -> [String: Tensor<Scalar>] {
        var result: [String: Tensor<Scalar>] = ["iterations": Tensor(Scalar(iterations))]
        if schedule == nil {
            result["learning_rate"] = Tensor(Scalar(fixedLearningRate))
        }
        for (name, storage) in slots {
            let n = storage.count
            for (j, slot) in slotNames.enumerated() {
                result["\(name)/\(slot)"] = Tensor(shape: storage.shape, scalars: Array(storage.scalars[j * n ..< (j + 1) * n]))
            }
        }
        return result
    }

    /// Replaces the state with `tensors` (as ``stateTensors()`` wrote them), after checking every name
    /// and shape; on error nothing changes. The saved learning rate replaces the current one unless
    /// the current one rounds to it in `Scalar` (so a `Float` checkpoint keeps the configured
    /// `0.001` rather than `0.0010000000474974513`; updates only use the rate rounded to `Scalar`).
    func loadStateTensors(_ tensors: [String: Tensor<Scalar>]) throws {
        let iterations = try counter("iterations", in: tensors, integral: true)
        var learningRate: Double?
        if schedule == nil {
            learningRate = try counter("learning_rate", in: tensors, integral: false)
        } else if tensors["learning_rate"] != nil {
            throw OptimizerError.unexpectedTensor(name: "learning_rate", optimizer: optimizerName, expectedSlots: slotNames)
        }

        // Group the slot tensors by parameter.
        var byParameter: [String: [String: Tensor<Scalar>]] = [:]
        for (key, tensor) in tensors where key != "iterations" && key != "learning_rate" {
            guard let slash = key.lastIndex(of: "/") else {
                throw OptimizerError.unexpectedTensor(name: key, optimizer: optimizerName, expectedSlots: slotNames)
            }
            let parameter = String(key[..<slash])
            let slot = String(key[key.index(after: slash)...])
            guard !parameter.isEmpty, slotNames.contains(slot) else {
                throw OptimizerError.unexpectedTensor(name: key, optimizer: optimizerName, expectedSlots: slotNames)
            }
            byParameter[parameter, default: [:]][slot] = tensor
        }

        var restored: [String: SlotStorage] = [:]
        for parameter in byParameter.keys.sorted() {
            let given = byParameter[parameter]!
            // The reference shape: the parameter's known slots, else the first slot in the file.
            let reference = slots[parameter]?.shape ?? given[slotNames.first { given[$0] != nil }!]!.shape
            var scalars: [Scalar] = []
            scalars.reserveCapacity(slotNames.count * reference.reduce(1, *))
            for slot in slotNames {
                let key = "\(parameter)/\(slot)"
                guard let tensor = given[slot] else {
                    throw OptimizerError.missingTensor(name: key, optimizer: optimizerName)
                }
                guard tensor.shape == reference else {
                    throw OptimizerError.shapeMismatch(name: key, expected: reference, found: tensor.shape)
                }
                scalars += tensor.scalars
            }
            restored[parameter] = SlotStorage(shape: reference, scalars: scalars)
        }

        self.iterations = Int(iterations)
        // A rate saved as Float loses digits: keep ours when it rounds to the saved value.
        if let learningRate, Double(Scalar(fixedLearningRate)) != learningRate {
            self.fixedLearningRate = learningRate
        }
        self.slots = restored
    }

    /// A rank-0 counter tensor's value, checked.
    private func counter(_ name: String, in tensors: [String: Tensor<Scalar>], integral: Bool) throws -> Double {
        guard let tensor = tensors[name] else {
            throw OptimizerError.missingTensor(name: name, optimizer: optimizerName)
        }
        guard tensor.shape == [] else {
            throw OptimizerError.shapeMismatch(name: name, expected: [], found: tensor.shape)
        }
        let value = Double(tensor.scalar)
        guard value.isFinite, value >= 0 else {
            throw OptimizerError.invalidValue(name: name, value: value, reason: "must be finite and non-negative")
        }
        if integral {
            guard value == value.rounded(), value <= Double(Int.max / 2) else {
                throw OptimizerError.invalidValue(name: name, value: value, reason: "must be a whole number")
            }
        }
        return value
    }

    // MARK: - Configuration

    /// The entries every optimizer reports: name, learning rate (or schedule), weight decay, clipping.
    var commonConfiguration: [String: String] {
        var c = ["name": optimizerName]
        if let schedule {
            c["learning_rate"] = String(describing: schedule)
        } else {
            c["learning_rate"] = "\(fixedLearningRate)"
        }
        if weightDecay > 0 { c["weight_decay"] = "\(weightDecay)" }
        if let clipping { c[clipping.kerasName] = "\(clipping.threshold)" }
        return c
    }
}

/// The buffers of one parameter's update step: weight and slots are updated in place.
struct UpdateBuffers<T> {
    /// The parameter's values.
    var weight: UnsafeMutablePointer<T>
    /// Its (clipped) gradient.
    var gradient: UnsafePointer<T>
    /// Its slots back to back (slot `j` at `slots + j * count`); nil when the optimizer has none.
    var slots: UnsafeMutablePointer<T>?
    /// Elements per buffer.
    var count: Int

    /// Slot `j`.
    func slot(_ j: Int) -> UnsafeMutablePointer<T> { slots! + j * count }

    /// The same buffers viewed as another element type (only after checking the types are equal).
    func rebound<U>(to: U.Type) -> UpdateBuffers<U> {
        UpdateBuffers<U>(
            weight: UnsafeMutablePointer<U>(OpaquePointer(weight)), gradient: UnsafePointer<U>(OpaquePointer(gradient)),
            slots: slots.map { UnsafeMutablePointer<U>(OpaquePointer($0)) }, count: count)
    }
}

/// An optimizer step's scalar coefficients (at most five: learning rate, decays, epsilon), held
/// inline so that an update allocates nothing.
struct UpdateCoefficients<T> {
    private let values: (T, T, T, T, T)
    /// The number of coefficients.
    let count: Int

    /// The coefficients in order: two to five of them (no array, so nothing is allocated).
    init(_ c0: T, _ c1: T, _ c2: T? = nil, _ c3: T? = nil, _ c4: T? = nil) {
        precondition(c2 != nil || c3 == nil, "UpdateCoefficients: coefficients must be given in order")
        precondition(c3 != nil || c4 == nil, "UpdateCoefficients: coefficients must be given in order")
        values = (c0, c1, c2 ?? c1, c3 ?? c1, c4 ?? c1)
        count = c4 != nil ? 5 : c3 != nil ? 4 : c2 != nil ? 3 : 2
    }

    private init(values: (T, T, T, T, T), count: Int) {
        self.values = values
        self.count = count
    }

    /// Coefficient `i`.
    subscript(i: Int) -> T {
        precondition(i >= 0 && i < count, "UpdateCoefficients: index \(i) out of range for \(count) coefficients")
        switch i {
        case 0: return values.0
        case 1: return values.1
        case 2: return values.2
        case 3: return values.3
        default: return values.4
        }
    }

    /// The same coefficients converted to another element type.
    func converted<U: TensorScalar>(to: U.Type) -> UpdateCoefficients<U> where T: TensorScalar {
        UpdateCoefficients<U>(
            values: (U(values.0), U(values.1), U(values.2), U(values.3), U(values.4)), count: count)
    }
}

/// Calls `float` or `double` with the buffers and coefficients viewed as the concrete element type,
/// so each optimizer's element loop is compiled (and vectorized) per type rather than run through
/// the generic protocol; `generic` handles any other `TensorScalar`.
func dispatchUpdate<Scalar: TensorScalar>(
    _ buffers: UpdateBuffers<Scalar>, _ coefficients: UpdateCoefficients<Scalar>,
    float: (UpdateBuffers<Float>, UpdateCoefficients<Float>) -> Void,
    double: (UpdateBuffers<Double>, UpdateCoefficients<Double>) -> Void,
    generic: (UpdateBuffers<Scalar>, UpdateCoefficients<Scalar>) -> Void
) {
    if Scalar.self == Float.self {
        float(buffers.rebound(to: Float.self), coefficients.converted(to: Float.self))
    } else if Scalar.self == Double.self {
        double(buffers.rebound(to: Double.self), coefficients.converted(to: Double.self))
    } else {
        generic(buffers, coefficients)
    }
}

/// `base^exponent` in the element type (Keras computes `beta ** step` in the variable's dtype).
func power<Scalar: TensorScalar>(_ base: Scalar, _ exponent: Int) -> Scalar {
    if Scalar.self == Float.self {
        return Scalar(Foundation.pow(Float(base), Float(exponent)))
    }
    return Scalar(Foundation.pow(Double(base), Double(exponent)))
}

/// `w[i] = w[i] - w[i] * wd * lr`.
private func weightDecayKernel<T: BinaryFloatingPoint>(_ w: UnsafeMutablePointer<T>, _ n: Int, _ wd: T, _ lr: T) {
    for i in 0..<n {
        w[i] = w[i] - w[i] * wd * lr
    }
}

/// The IEEE square root (NaN for a negative or NaN input), written so the compiler can vectorize
/// it: the explicit NaN branch lets LLVM drop the `errno` path of libm's `sqrt`, which otherwise
/// keeps every loop that takes a square root scalar on Linux.
@inline(__always)
func vectorizableSquareRoot<T: BinaryFloatingPoint>(_ x: T) -> T {
    (x >= 0 ? x : .nan).squareRoot()
}

/// Parameter elements per thread below which an update runs on one thread.
let optimizerElementsPerThread = 1 << 16
