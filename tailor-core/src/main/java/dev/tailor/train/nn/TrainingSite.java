package dev.tailor.train.nn;

import dev.tailor.model.site.LinearAdapter;
import dev.tailor.model.site.LinearOp;
import dev.tailor.model.site.TrainingPass;
import dev.tailor.tensor.Parameter;

import java.util.List;

/**
 * An adapter at a linear site of a {@link TrainableLlama}: while {@link TrainableLlama#forwardBackward} runs, its
 * calls are training calls with that pass (so dropout applies); otherwise (logits, loss) they are inference calls.
 *
 * @param adapter the adapter
 * @param current the pass of the model's running forwardBackward, shared by all its sites
 */
record TrainingSite(LinearAdapter adapter, Current current) implements LinearAdapter {

    /** The pass under way, or null outside forwardBackward. */
    static final class Current {
        private TrainingPass pass;

        TrainingPass get() {
            return pass;
        }

        void set(TrainingPass pass) {
            this.pass = pass;
        }
    }

    @Override
    public void checkFits(String module, int out, int in) {
        adapter.checkFits(module, out, in);
    }

    @Override
    public List<Parameter> parameters() {
        return adapter.parameters();
    }

    @Override
    public void forward(LinearOp inner, float[] x, int m, float[] y) {
        TrainingPass pass = current.get();
        if (pass == null) {
            adapter.forward(inner, x, m, y);
        } else {
            adapter.forward(inner, x, m, y, pass);
        }
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx) {
        TrainingPass pass = current.get();
        if (pass == null) {
            adapter.backward(inner, dy, x, m, dx);
        } else {
            adapter.backward(inner, dy, x, m, dx, pass);
        }
    }
}
