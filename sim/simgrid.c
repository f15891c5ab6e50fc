/* placeholder: file being written */
