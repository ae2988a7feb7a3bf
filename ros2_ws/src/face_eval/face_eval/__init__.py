"""Accuracy evaluation of the face cores on labelled data, and the store-day scenario generator."""
