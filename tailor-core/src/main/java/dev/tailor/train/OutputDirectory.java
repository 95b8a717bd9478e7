package dev.tailor.train;

import dev.tailor.adapt.InvalidOptionException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A run's output directory, checked against the run's inputs and created before anything is loaded, so that a bad
 * output is refused at once and an input is never overwritten: the output may not be a file, nor be or lie inside
 * a directory the run reads (the base model's), nor hold a file the run reads (the data). Paths are compared as
 * real paths (symbolic links followed). When the run fails before training starts, {@link #removeIfUnused()}
 * removes the directories it created, so a refused run leaves nothing behind.
 */
final class OutputDirectory {
    private final Path dir;
    private final Path firstCreated;

    private OutputDirectory(Path dir, Path firstCreated) {
        this.dir = dir;
        this.firstCreated = firstCreated;
    }

    /**
     * Checks {@code output} and creates it (with its missing parents).
     *
     * @param inputDirs  directories the run reads (the base model's, a tokenizer's), with what each is
     * @param inputFiles files the run reads (data, a config), with what each is
     * @throws InvalidOptionException naming {@code output} when it is a file, is or lies inside an input directory,
     *                                holds an input file, or cannot be created (saying why)
     */
    static OutputDirectory create(Path output, List<Input> inputDirs, List<Input> inputFiles) {
        Path real = realPath(output);
        for (Input file : inputFiles) {
            Path input = realPath(file.path());
            if (input.equals(real)) {
                throw refused(output, "is the " + file.what() + "; training would overwrite it");
            }
            if (input.startsWith(real)) {
                throw refused(output, "holds the " + file.what() + " " + file.path()
                        + ", which training could overwrite; choose a directory that holds no input");
            }
        }
        for (Input input : inputDirs) {
            Path inputDir = realPath(input.path());
            if (real.equals(inputDir)) {
                throw refused(output, "is the " + input.what() + "; training would overwrite its files");
            }
            if (real.startsWith(inputDir)) {
                throw refused(output, "is inside the " + input.what() + " " + input.path()
                        + "; training would write into it");
            }
        }
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw refused(output, "is a file, not a directory");
        }
        Path existing = existingAncestor(output.toAbsolutePath().normalize());
        if (!Files.isDirectory(existing)) {
            throw refused(output, "cannot be created: " + existing + " is a file, not a directory");
        }
        Path first = existing.equals(output.toAbsolutePath().normalize()) ? null
                : existing.resolve(existing.relativize(output.toAbsolutePath().normalize()).getName(0));
        try {
            Files.createDirectories(output);
        } catch (AccessDeniedException e) {
            throw refused(output, "cannot be created: permission denied in " + existing);
        } catch (FileSystemException e) {
            throw refused(output, "cannot be created in " + existing + ": " + (e.getReason() != null ? e.getReason()
                    : "the file system does not allow new directories there"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the output directory " + output + ": " + e.getMessage(), e);
        }
        return new OutputDirectory(output, first);
    }

    /**
     * Something a run reads.
     *
     * @param path the file or directory
     * @param what what it is, for messages ("base model's directory", "data file")
     */
    record Input(Path path, String what) {
    }

    /** The directory. */
    Path path() {
        return dir;
    }

    /** Removes the directories {@link #create} made if they are still empty (a run that failed before training). */
    void removeIfUnused() {
        if (firstCreated == null) {
            return;
        }
        try {
            for (Path p = dir.toAbsolutePath().normalize(); p.startsWith(firstCreated); p = p.getParent()) {
                if (!Files.deleteIfExists(p) || p.equals(firstCreated)) {
                    return;
                }
            }
        } catch (IOException e) {
            // not empty (something else writes there) or already gone: leave it
        }
    }

    private static InvalidOptionException refused(Path output, String why) {
        return new InvalidOptionException("output", "output " + output + " " + why);
    }

    /** The real path of {@code p}, which need not exist: its nearest existing ancestor's real path, then the rest. */
    private static Path realPath(Path p) {
        Path absolute = p.toAbsolutePath().normalize();
        Path existing = existingAncestor(absolute);
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute));
        } catch (IOException e) {
            return absolute;
        }
    }

    private static Path existingAncestor(Path absolute) {
        Path p = absolute;
        while (p.getParent() != null && !Files.exists(p)) {
            p = p.getParent();
        }
        return p;
    }
}
