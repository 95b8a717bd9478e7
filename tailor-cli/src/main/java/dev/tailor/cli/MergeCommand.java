package dev.tailor.cli;

import picocli.CommandLine.Command;

/** {@code tailor merge}: {@code tailor adapters merge} under the top-level name, same options. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge LoRA adapters (stacked in order) into the base and save a standalone model directory "
                + "(the same as 'tailor adapters merge').")
public final class MergeCommand extends AdaptersCommand.Merge {
}
