package dev.tailor.tokenizer;

import jinjava.javax.el.ELContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gives templates the Python methods that chat templates call on strings and dicts and that Jinjava, whose
 * values are Java objects, lacks: {@code strip lstrip rstrip startswith endswith split upper lower title
 * capitalize replace find count join} on strings, {@code get(key, default)} on maps, and the stepped slices
 * {@code [::step]} that {@link TemplateRewrites} turns into calls. It sits first
 * in the resolver chain and claims only these calls; everything else falls through to Jinjava's resolvers.
 */
final class PythonMethodResolver extends ClaimingResolver {

    /** The Python string methods templates may call. */
    static final Set<String> STRING_METHODS = Set.of("strip", "lstrip", "rstrip", "startswith",
            "endswith", "split", "upper", "lower", "title", "capitalize", "replace", "find", "count", "join");

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(method instanceof String name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        if (base instanceof CharSequence text && STRING_METHODS.contains(name)) {
            context.setPropertyResolved(true);
            return PythonStrings.call(text.toString(), name, args);
        }
        if (name.equals(TemplateRewrites.STEP_SLICE_METHOD) && args.length == 1 && args[0] instanceof Number step) {
            context.setPropertyResolved(true);
            return stepSlice(base, step.intValue());
        }
        if (base instanceof Map<?, ?> map && name.equals("get") && args.length == 2) {
            context.setPropertyResolved(true);
            return map.containsKey(args[0]) ? map.get(args[0]) : args[1];
        }
        return null;
    }


    /** Python's {@code seq[::step]} for a list or a string. */
    static Object stepSlice(Object base, int step) {
        if (step == 0) {
            throw new ChatTemplateException("slice step cannot be zero");
        }
        if (base instanceof CharSequence chars) {
            StringBuilder picked = new StringBuilder();
            for (int i = step > 0 ? 0 : chars.length() - 1; i >= 0 && i < chars.length(); i += step) {
                picked.append(chars.charAt(i));
            }
            return picked.toString();
        }
        if (!(base instanceof Iterable<?> iterable)) {
            throw new ChatTemplateException("cannot slice " + PythonValues.str(base) + " with step " + step);
        }
        List<Object> items = new ArrayList<>();
        iterable.forEach(items::add);
        List<Object> picked = new ArrayList<>();
        for (int i = step > 0 ? 0 : items.size() - 1; i >= 0 && i < items.size(); i += step) {
            picked.add(items.get(i));
        }
        return picked;
    }

    /**
     * Python's {@code str.join}: the items of an iterable, each a string, joined by {@code separator}.
     *
     * @throws RenderBudget.Violation when the result would exceed the output budget
     */
    static String join(String separator, Object items) {
        long maxChars = RenderBudget.maxChars();
        StringBuilder out = new StringBuilder();
        Iterable<?> parts = switch (items) {
            case Iterable<?> iterable -> iterable;
            case CharSequence chars -> chars.codePoints().mapToObj(Character::toString).toList();
            case null, default -> throw new ChatTemplateException("str.join expects an iterable, got "
                    + PythonValues.str(items));
        };
        String between = "";
        for (Object part : parts) {
            out.append(between).append(PythonValues.str(part));
            between = separator;
            if (out.length() > maxChars) {
                throw TemplateSandbox.tooLong();
            }
        }
        return out.toString();
    }
}
