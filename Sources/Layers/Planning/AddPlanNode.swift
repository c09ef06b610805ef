// The planned steps of the residual containers: Add (branches on the same input, summed) and
// Identity (a copy, since plan buffers are never shared).

extension Add: PlannableLayer {
    /// A node running every branch's node on the input and summing their outputs; `nil` when a
    /// branch cannot be planned.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        var nodes: [PlanNode<Scalar>] = []
        for branch in branches {
            guard let branchNodes = try makePlanNodes([branch], inputShape: inputShape, needsInputGradient: needsInputGradient),
                  branchNodes.count == 1
            else { return nil }
            nodes.append(branchNodes[0])
        }
        let shape = nodes[0].output.tensor.shape
        guard nodes.allSatisfy({ $0.output.tensor.shape == shape }) else { return nil }
        return (AddPlanNode(branches: nodes), 0)
    }
}

extension Identity: PlannableLayer {
    /// A node copying its input.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        (CopyPlanNode(inputShape: inputShape, outputShape: inputShape, needsInputGradient: needsInputGradient), 0)
    }
}

/// The sum of branch nodes on the same input; the input gradient is the sum of theirs, summed
/// into the first branch's input-gradient buffer (which the node reports as its own).
final class AddPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let branches: [PlanNode<Scalar>]

    init(branches: [PlanNode<Scalar>]) {
        self.branches = branches
        super.init(
            output: PlanBuffer(shape: branches[0].output.tensor.shape), inputGradient: branches[0].inputGradient,
            gradients: branches.flatMap(\.gradients))
    }

    override var ownsInputGradient: Bool { false }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        var i = 0
        while i < branches.count {
            branches[i].forward(input, context: &context)
            if i == 0 {
                output.copy(from: branches[0].output.tensor)
            } else {
                output.tensor += branches[i].output.tensor
            }
            i += 1
        }
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        var i = 0
        while i < branches.count {
            branches[i].backward(input, outputGradient: outputGradient)
            if i > 0, let sum = inputGradient, let branchGradient = branches[i].inputGradient {
                sum.tensor += branchGradient.tensor
            }
            i += 1
        }
    }
}
